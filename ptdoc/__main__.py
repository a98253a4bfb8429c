from ptdoc.cli import main

raise SystemExit(main())
