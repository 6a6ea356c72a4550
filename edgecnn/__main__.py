from edgecnn.cli import main

raise SystemExit(main())
