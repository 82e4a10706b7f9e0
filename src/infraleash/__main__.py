from infraleash.surfaces.cli import main

main()
