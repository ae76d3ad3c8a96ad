import Foundation

/// Every endpoint of §2 as a prepared request. Validation happens here; the client sends the result.
public enum Endpoint {
    public static func listInstances(search: String? = nil) throws(RuncrateError) -> PreparedRequest<[Instance]> {
        var v = Validator()
        v.optionalString(search, "search")
        try v.finish()
        return PreparedRequest(
            method: "GET", path: "/instances", query: search.map { [QueryItem("search", $0)] } ?? [],
            decode: ResponseDecoding.list(Instance.self))
    }

    public static func createInstance(_ prepared: PreparedCreateInstance) -> PreparedRequest<Instance> {
        PreparedRequest(
            method: "POST", path: "/instances", body: prepared.body, redactedBody: prepared.redactedBody,
            kind: .createInstance, warnings: prepared.warnings, subject: prepared.request.summary,
            decode: ResponseDecoding.one(Instance.self))
    }

    public static func getInstance(id: String) throws(RuncrateError) -> PreparedRequest<Instance> {
        try byID("GET", "/instances", id, decode: ResponseDecoding.one(Instance.self))
    }

    /// `id` may also be the instance's unique name.
    public static func updateInstance(id: String, _ update: UpdateInstanceRequest) throws(RuncrateError) -> PreparedRequest<Instance> {
        var v = Validator()
        v.id(id)
        update.validate(into: &v)
        try v.finish()
        return PreparedRequest(
            method: "PATCH", path: "/instances/\(PathEncoding.segment(id))", body: update.wireBody(),
            decode: ResponseDecoding.one(Instance.self))
    }

    public static func deleteInstance(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/instances", id, decode: ResponseDecoding.delete)
    }

    public static func instanceStatus(id: String) throws(RuncrateError) -> PreparedRequest<InstanceStatus> {
        try byID("GET", "/instances", id, suffix: "/status", decode: ResponseDecoding.one(InstanceStatus.self))
    }

    public static func instanceTypes(_ filter: ListInstanceTypesRequest = .init()) throws(RuncrateError) -> PreparedRequest<[InstanceType]> {
        var v = Validator()
        v.optionalString(filter.gpuType, "gpu_type")
        v.optionalString(filter.region, "region")
        v.atLeastOne(filter.gpuCount, "gpu_count")
        try v.finish()
        var query: [QueryItem] = []
        if let gpuType = filter.gpuType { query.append(QueryItem("gpu_type", gpuType)) }
        if let region = filter.region { query.append(QueryItem("region", region)) }
        if let gpuCount = filter.gpuCount { query.append(QueryItem("gpu_count", String(gpuCount))) }
        return PreparedRequest(method: "GET", path: "/instances/types", query: query, decode: ResponseDecoding.list(InstanceType.self))
    }

    public static func sshKeys() -> PreparedRequest<[SSHKey]> {
        PreparedRequest(method: "GET", path: "/ssh-keys", decode: ResponseDecoding.list(SSHKey.self))
    }

    public static func createSSHKey(_ request: CreateSSHKeyRequest) throws(RuncrateError) -> PreparedRequest<SSHKey> {
        var v = Validator()
        SSHKeyRules.validate(request, into: &v)
        try v.finish()
        var normalized = request
        normalized.publicKey = request.publicKey?.trimmingCharacters(in: .whitespacesAndNewlines)
        return PreparedRequest(method: "POST", path: "/ssh-keys", body: normalized.wireBody(), decode: ResponseDecoding.one(SSHKey.self))
    }

    public static func deleteSSHKey(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/ssh-keys", id, decode: ResponseDecoding.delete)
    }

    public static func volumes(search: String? = nil) throws(RuncrateError) -> PreparedRequest<[Volume]> {
        var v = Validator()
        v.optionalString(search, "search")
        try v.finish()
        return PreparedRequest(
            method: "GET", path: "/storage", query: search.map { [QueryItem("search", $0)] } ?? [],
            decode: ResponseDecoding.list(Volume.self))
    }

    public static func createVolume(_ request: CreateVolumeRequest) throws(RuncrateError) -> PreparedRequest<Volume> {
        var v = Validator()
        v.requiredString(request.name, "name")
        if request.sizeGB == nil { v.add("size_gb", "is required") }
        v.atLeastOne(request.sizeGB, "size_gb")
        v.requiredString(request.region, "region")
        try v.finish()
        return PreparedRequest(method: "POST", path: "/storage", body: request.wireBody(), decode: ResponseDecoding.one(Volume.self))
    }

    public static func volume(id: String) throws(RuncrateError) -> PreparedRequest<Volume> {
        try byID("GET", "/storage", id, decode: ResponseDecoding.one(Volume.self))
    }

    public static func resizeVolume(id: String, sizeGB: Int) throws(RuncrateError) -> PreparedRequest<Volume> {
        var v = Validator()
        v.id(id)
        v.atLeastOne(sizeGB, "size_gb")
        try v.finish()
        return PreparedRequest(
            method: "PATCH", path: "/storage/\(PathEncoding.segment(id))", body: ["size_gb": .int(sizeGB)],
            decode: ResponseDecoding.one(Volume.self))
    }

    public static func deleteVolume(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/storage", id, decode: ResponseDecoding.delete)
    }

    public static func volumeRegions() -> PreparedRequest<[StorageRegion]> {
        PreparedRequest(method: "GET", path: "/storage/regions", decode: ResponseDecoding.list(StorageRegion.self))
    }

    public static func templates(_ request: ListTemplatesRequest = .init()) throws(RuncrateError) -> PreparedRequest<Page<Template>> {
        var v = Validator()
        v.atLeastOne(request.page, "page")
        v.atLeastOne(request.pageSize, "page_size")
        v.optionalString(request.search, "search")
        v.optionalString(request.category, "category")
        try v.finish()
        var query: [QueryItem] = []
        if let page = request.page { query.append(QueryItem("page", String(page))) }
        if let pageSize = request.pageSize { query.append(QueryItem("page_size", String(pageSize))) }
        if let search = request.search { query.append(QueryItem("search", search)) }
        if let category = request.category { query.append(QueryItem("category", category)) }
        return PreparedRequest(method: "GET", path: "/templates", query: query, decode: ResponseDecoding.page(Template.self))
    }

    public static func environments() -> PreparedRequest<[Environment]> {
        PreparedRequest(method: "GET", path: "/environments", decode: ResponseDecoding.list(Environment.self))
    }

    public static func createEnvironment(name: String) throws(RuncrateError) -> PreparedRequest<Environment> {
        var v = Validator()
        v.requiredString(name, "name")
        try v.finish()
        return PreparedRequest(method: "POST", path: "/environments", body: ["name": .string(name)], decode: ResponseDecoding.one(Environment.self))
    }

    public static func environment(id: String) throws(RuncrateError) -> PreparedRequest<Environment> {
        try byID("GET", "/environments", id, decode: ResponseDecoding.one(Environment.self))
    }

    public static func updateEnvironment(id: String, _ update: UpdateEnvironmentRequest) throws(RuncrateError) -> PreparedRequest<Environment> {
        var v = Validator()
        v.id(id)
        v.optionalString(update.name, "name")
        if update.name == nil, update.isDefault == nil { v.add([], "nothing to update: give name and/or is_default") }
        try v.finish()
        return PreparedRequest(
            method: "PATCH", path: "/environments/\(PathEncoding.segment(id))", body: update.wireBody(),
            decode: ResponseDecoding.one(Environment.self))
    }

    public static func deleteEnvironment(id: String) throws(RuncrateError) -> PreparedRequest<DeleteResult> {
        try byID("DELETE", "/environments", id, decode: ResponseDecoding.delete)
    }

    public static func balance() -> PreparedRequest<Balance> {
        PreparedRequest(method: "GET", path: "/billing/balance", decode: ResponseDecoding.balance)
    }

    private static func byID<R>(
        _ method: String, _ collection: String, _ id: String, suffix: String = "",
        decode: @escaping @Sendable (RawResponse) throws(RuncrateError) -> R
    ) throws(RuncrateError) -> PreparedRequest<R> {
        var v = Validator()
        v.id(id)
        try v.finish()
        return PreparedRequest(method: method, path: "\(collection)/\(PathEncoding.segment(id))\(suffix)", decode: decode)
    }
}
