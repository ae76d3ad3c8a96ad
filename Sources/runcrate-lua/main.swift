print("runcrate-lua: not yet built")
