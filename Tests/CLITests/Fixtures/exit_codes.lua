local how = ...
io.write("exiting with ", tostring(how), "\n")
if how == "true" then os.exit(true)
elseif how == "false" then os.exit(false)
else os.exit(tonumber(how)) end
