from kvcompliance.cli import run

if __name__ == "__main__":  # not when a worker process re-imports the main module (spawn)
    run()
