import CLua
import CLuaShim

extension LuaState {
    /// Pushes `object` as a full userdata with the metatable `name`. The first time a metatable is
    /// made, `setup` fills it (`__index`, `__tostring`, …; the metatable is on top). Lua's GC releases
    /// the object. Stack: +1.
    public func push<T: AnyObject>(object: T, metatable name: String, setup: (LuaState) -> Void = { _ in }) {
        pushSlot(Unmanaged.passRetained(object as AnyObject).toOpaque(), metatable: name, setup: setup)
    }

    /// The Swift object in the userdata at `index` when its metatable is `name`, else nil.
    public func toobject<T: AnyObject>(_ index: Int32, metatable name: String, as type: T.Type = T.self) -> T? {
        guard let p = luaL_testudata(self, index, imageMetatableName(name))?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
              let raw = p.pointee else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue() as? T
    }
}
