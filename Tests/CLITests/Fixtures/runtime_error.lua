local function inner(x)
  return x.field.deeper
end

local function outer()
  return inner({})
end

print("before the error")
outer()
