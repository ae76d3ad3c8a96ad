import LuaBridge
import RuncrateAPI

/// An options table an operation takes, read into a small typed struct through a declared field
/// table — as `LongOption` declares the command line's long options. Every key is checked (unknown
/// ones get a did-you-mean), every value read strictly, every problem reported at once.
protocol LuaOptions {
    init()
    /// The fields in the order the expected-table message names them.
    static var fields: [OptionField<Self>] { get }
}

/// One field of an options table: its name and how its value (on top of the stack) is read.
struct OptionField<Options>: Sendable {
    let name: String
    let read: @Sendable (inout SpecReader, inout Options) -> Void

    init(_ name: String, _ read: @escaping @Sendable (inout SpecReader, inout Options, String) -> Void) {
        self.name = name
        self.read = { r, o in read(&r, &o, name) }
    }
}

extension RuncrateModule {
    /// Reads the options table at `index` for `op`: nil/none is the defaults unless `required`. A
    /// value that is not such a table is an error on `field`.
    func options<O: LuaOptions>(_ type: O.Type, _ L: LuaState, _ index: Int32, _ op: String, required: Bool = false,
                                field: String = "options") throws(ErrorInfo) -> O
    {
        let names = O.fields.map(\.name)
        let expected = "\(op): table {\(names.map { "\($0)=" }.joined(separator: ", "))} expected"
        if L.isnoneornil(index) {
            if required { throw .validation(field: field, "\(expected), got nil") }
            return O()
        }
        var r = reader(L)
        guard L.type(at: index) == .table, !r.isSecret(index), !L.hasMetatable(index) else {
            throw .validation(field: field, "\(expected), got \(L.shown(index))")
        }
        var out = O()
        r.fields(of: index, prefix: "", known: names) { r, key in
            O.fields.first { $0.name == key }?.read(&r, &out)
        }
        if !r.errors.isEmpty { throw ErrorInfo.validation(r.errors) }
        return out
    }
}

/// `instances{search=}`, `volumes{search=}`.
struct SearchOptions: LuaOptions {
    var search: String?
    static let fields: [OptionField<Self>] = [OptionField("search") { r, o, k in o.search = r.string(k) }]
}

/// `instance_types{gpu_type=, region=, gpu_count=, max_price=}`.
struct InstanceTypeFilter: LuaOptions {
    var request = ListInstanceTypesRequest()
    var maxPrice: Double?
    static let fields: [OptionField<Self>] = [
        OptionField("gpu_type") { r, o, k in o.request.gpuType = r.string(k) },
        OptionField("region") { r, o, k in o.request.region = r.string(k) },
        OptionField("gpu_count") { r, o, k in o.request.gpuCount = r.integer(k) },
        OptionField("max_price") { r, o, k in o.maxPrice = r.number(k) },
    ]
}

/// `create_ssh_key{name=, public_key=, type=}`.
struct SSHKeyFields: LuaOptions {
    var request = CreateSSHKeyRequest(name: nil, publicKey: nil, type: nil)
    static let fields: [OptionField<Self>] = [
        OptionField("name") { r, o, k in o.request.name = r.string(k) },
        OptionField("public_key") { r, o, k in o.request.publicKey = r.string(k) },
        OptionField("type") { r, o, k in o.request.type = r.string(k) },
    ]
}

/// `create_volume{name=, size_gb=, region=}`.
struct VolumeFields: LuaOptions {
    var request = CreateVolumeRequest(name: nil, sizeGB: nil, region: nil)
    static let fields: [OptionField<Self>] = [
        OptionField("name") { r, o, k in o.request.name = r.string(k) },
        OptionField("size_gb") { r, o, k in o.request.sizeGB = r.integer(k) },
        OptionField("region") { r, o, k in o.request.region = r.string(k) },
    ]
}

/// `templates{search=, category=, page=, page_size=}`.
struct TemplateQuery: LuaOptions {
    var request = ListTemplatesRequest()
    static let fields: [OptionField<Self>] = [
        OptionField("search") { r, o, k in o.request.search = r.string(k) },
        OptionField("category") { r, o, k in o.request.category = r.string(k) },
        OptionField("page") { r, o, k in o.request.page = r.integer(k) },
        OptionField("page_size") { r, o, k in o.request.pageSize = r.integer(k) },
    ]
}

/// `create_environment{name=}` (or the name alone).
struct EnvironmentFields: LuaOptions {
    var name: String?
    static let fields: [OptionField<Self>] = [OptionField("name") { r, o, k in o.name = r.string(k) }]
}

/// `update_instance(id, {max_runtime_minutes=, idle_shutdown_minutes=})`: `json.null` clears one.
struct InstanceChanges: LuaOptions {
    var patch = UpdateInstanceRequest()
    static let fields: [OptionField<Self>] = [
        OptionField("max_runtime_minutes") { r, o, k in o.patch.maxRuntimeMinutes = r.patch(k) },
        OptionField("idle_shutdown_minutes") { r, o, k in o.patch.idleShutdownMinutes = r.patch(k) },
    ]
}

extension SpecReader {
    /// A value that may be cleared: `json.null`, or an integer.
    mutating func patch(_ field: String) -> Patch<Int>? {
        isNull(-1) ? .clear : integer(field).map { .set($0) }
    }
}
