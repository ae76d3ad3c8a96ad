error("failmod refuses to load")
