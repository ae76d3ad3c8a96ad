local M = {}
function M.hello() return "hello from greet" end
print("loading greet", ...)
return M
