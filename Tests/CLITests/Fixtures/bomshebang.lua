#!/usr/bin/env lua
print("bom and shebang skipped")
