"""The workbench's pages, one module per part: sign-in, overview, cases and employees, notices, bundles."""
