local E = setmetatable({ code = "bad_thing" }, {
  __tostring = function(e) return "E(" .. e.code .. ")" end,
})
error(E)
