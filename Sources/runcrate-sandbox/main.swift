print("runcrate-sandbox: not yet built")
