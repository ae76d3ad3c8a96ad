print("script returns values; lua ignores them")
return 1, 2, 3
