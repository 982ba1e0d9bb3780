from kvcompliance.cli import run

run()
