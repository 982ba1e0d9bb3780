from kvcompliance.cli import main

main()
