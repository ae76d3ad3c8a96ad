print("init file ran")
initialised = "yes"
