import CLua
import CLuaShim

/// A Swift function callable from Lua. It reads its arguments from `L`, pushes its results and
/// returns how many. To fail it throws: a `LuaRaisable` error pushes its own value, any other error
/// is raised as its description, prefixed with the caller's `file:line:` as `error()` does.
public typealias LuaFunction = (LuaState) throws -> Int32

/// An error that knows which Lua value to raise.
public protocol LuaRaisable: Error {
    /// Pushes the error value (one value).
    func push(onto L: LuaState)
    /// Whether a string value gets the caller's `file:line:` prefix.
    var addsPosition: Bool { get }
}

extension LuaRaisable {
    public var addsPosition: Bool { true }
}

/// `bad argument #n to 'name' (message)`, as `luaL_argerror` words it.
public struct LuaArgumentError: Error, CustomStringConvertible {
    public var position: Int
    public var message: String
    public init(_ position: Int, _ message: String) {
        self.position = position
        self.message = message
    }
    public var description: String { "bad argument #\(position) (\(message))" }
}

/// A plain Lua error with a given message (a string raised with the caller's position).
public struct LuaRuntimeError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

final class FunctionBox {
    let name: String
    let body: LuaFunction
    init(name: String, body: @escaping LuaFunction) {
        self.name = name
        self.body = body
    }
}

private let functionMetatable = "LuaBridge.Function"

private func dispatch(_ L: LuaState?) -> Int32 {
    guard let L else { return RCSHIM_RAISE }
    guard let slot = L.touserdata(rcshim_upvalue_index())?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
          let raw = slot.pointee else {
        L.push("Swift function was released")
        return RCSHIM_RAISE
    }
    let box = Unmanaged<FunctionBox>.fromOpaque(raw).takeUnretainedValue()
    do {
        return try box.body(L)
    } catch let error as LuaRaisable {
        error.push(onto: L)
        return error.addsPosition ? RCSHIM_RAISE : RCSHIM_RAISE_RAW
    } catch let error as LuaArgumentError {
        L.push("bad argument #\(error.position) to '\(box.name)' (\(error.message))")
        return RCSHIM_RAISE
    } catch let error as LuaError {
        L.push(error.message)
        return RCSHIM_RAISE_RAW
    } catch {
        L.push(String(describing: error))
        return RCSHIM_RAISE
    }
}

private let installDispatcher: Void = {
    rcshim_set_dispatcher { L in dispatch(L) }
}()

/// Registry names of this image's metatables. The executable and the `runcrate` module library each
/// link their own copy of the bridge, with their own Swift types and dispatcher, over one state: a
/// slot made by one copy must never get the other copy's metatable (`__gc`, `__call`).
private let imageSuffix = "@" + String(UInt(bitPattern: rcshim_image_tag()), radix: 16)

func imageMetatableName(_ name: String) -> String { name + imageSuffix }

/// Releases the Swift object held in a userdata slot; the slot is cleared so it is released once.
func releaseSlot(_ L: LuaState?) -> Int32 {
    guard let L, let slot = L.touserdata(1)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
          let raw = slot.pointee else { return 0 }
    slot.pointee = nil
    Unmanaged<AnyObject>.fromOpaque(raw).release()
    return 0
}

extension LuaState {
    /// Pushes a Swift function as a Lua function. `name` is used in argument errors. Stack: +1.
    public func push(function body: @escaping LuaFunction, name: String = "?") {
        _ = installDispatcher
        pushSlot(Unmanaged.passRetained(FunctionBox(name: name, body: body)).toOpaque(), metatable: functionMetatable) { _ in }
        rcshim_push_trampoline(self)
    }

    /// `_G[name] = function`. Stack: unchanged.
    public func register(_ name: String, _ body: @escaping LuaFunction) {
        push(function: body, name: name)
        setglobal(raw: name)
    }

    /// Pushes a new table of Swift functions. Stack: +1.
    public func push(module functions: [(String, LuaFunction)], prefix: String = "") {
        newtable(narr: 0, nrec: Int32(clamping: functions.count))
        for (name, body) in functions {
            push(function: body, name: prefix + name)
            rawset(-2, field: name)
        }
    }

    /// Pushes a userdata holding a retained pointer, with metatable `name` (created on first use,
    /// with `__gc` releasing the pointer, then passed to `setup`). Stack: +1.
    func pushSlot(_ raw: UnsafeMutableRawPointer, metatable name: String, setup: (LuaState) -> Void) {
        let slot = clua_newuserdata(self, MemoryLayout<UnsafeMutableRawPointer?>.size)!
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        slot.pointee = raw
        if luaL_newmetatable(self, imageMetatableName(name)) != 0 {
            clua_pushcfunction(self) { L in releaseSlot(L) }
            rawset(-2, field: "__gc")
            setup(self)
        }
        setmetatable(-2)
    }
}
