#!/usr/bin/env runcrate-lua
print("shebang skipped", ...)
