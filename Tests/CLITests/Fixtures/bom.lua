print("bom skipped")
