import Foundation
import Testing
@testable import RuncrateSandbox

let edKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host"

@Suite("ssh keys, storage, templates, environments")
struct OtherContractTests {
    @Test func sshKeysCreateListDuplicateAndDelete() async throws {
        try await withSandbox { s in
            let c = await http(s, "POST", "/api/v1/ssh-keys", body: #"{"name":"laptop","public_key":"\#(edKey)"}"#)
            #expect(c.status == 201)
            let id = try #require(c.data?["id"]?.stringValue)
            #expect(c.data?["type"]?.stringValue == "ed25519")
            #expect(c.data?["fingerprint"]?.stringValue?.hasPrefix("SHA256:") == true)
            #expect(c.data?["createdAt"]?.stringValue != nil)
            let dupName = await http(s, "POST", "/api/v1/ssh-keys", body: #"{"name":"laptop","public_key":"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x"}"#)
            #expect(dupName.status == 409)
            let dupKey = await http(s, "POST", "/api/v1/ssh-keys", body: #"{"name":"other","public_key":"\#(edKey)"}"#)
            #expect(dupKey.status == 409)
            #expect(dupKey.errorCode == "conflict")
            let bad = await http(s, "POST", "/api/v1/ssh-keys", body: #"{"name":"bad","public_key":"not a key"}"#)
            #expect(bad.status == 422)
            #expect(bad.errorField == "public_key")
            let missing = await http(s, "POST", "/api/v1/ssh-keys", body: #"{"public_key":"\#(edKey)"}"#)
            #expect(missing.errorField == "name")
            #expect(await http(s, "GET", "/api/v1/ssh-keys").data?.count == 1)
            let inst = await http(s, "POST", "/api/v1/instances", body: #"{"name":"k","gpu_type":"l40s","ssh_key_id":"\#(id)"}"#)
            #expect(inst.data?["ssh_key_id"]?.stringValue == id)
            #expect(await http(s, "DELETE", "/api/v1/ssh-keys/\(id)").status == 204)
            #expect(await http(s, "DELETE", "/api/v1/ssh-keys/\(id)").status == 404)
            #expect(await http(s, "GET", "/api/v1/ssh-keys").data?.count == 0)
        }
    }

    @Test func storageLifecycleAndErrors() async throws {
        try await withSandbox { s in
            let regions = await http(s, "GET", "/api/v1/storage/regions")
            let region = try #require(regions.data?[0]?["id"]?.stringValue)
            #expect(regions.data?[0]?["provider"]?.stringValue != nil)
            let c = await http(s, "POST", "/api/v1/storage", body: #"{"name":"data","size_gb":100,"region":"\#(region)"}"#)
            #expect(c.status == 201)
            let id = try #require(c.data?["id"]?.stringValue)
            #expect(c.data?["sizeGb"]?.intValue == 100)
            #expect(await http(s, "POST", "/api/v1/storage", body: #"{"name":"data","size_gb":1,"region":"\#(region)"}"#).status == 409)
            #expect(await http(s, "POST", "/api/v1/storage", body: #"{"name":"z","size_gb":0,"region":"\#(region)"}"#).errorField == "size_gb")
            #expect(await http(s, "POST", "/api/v1/storage", body: #"{"name":"z","size_gb":5,"region":"moon"}"#).errorField == "region")
            #expect(await http(s, "POST", "/api/v1/storage", body: #"{"size_gb":5,"region":"\#(region)"}"#).errorField == "name")
            #expect(await http(s, "GET", "/api/v1/storage/\(id)").data?["name"]?.stringValue == "data")
            #expect(await http(s, "GET", "/api/v1/storage?search=dat").data?.count == 1)
            let grow = await http(s, "PATCH", "/api/v1/storage/\(id)", body: #"{"size_gb":200}"#)
            #expect(grow.data?["sizeGb"]?.intValue == 200)
            #expect(await http(s, "PATCH", "/api/v1/storage/\(id)", body: #"{"size_gb":50}"#).status == 422)
            let inst = await http(s, "POST", "/api/v1/instances", body: #"{"name":"v","gpu_type":"l40s","storage_id":"\#(id)"}"#)
            #expect(inst.status == 201)
            #expect(await http(s, "GET", "/api/v1/storage/\(id)").data?["status"]?.stringValue == "attached")
            #expect(await http(s, "DELETE", "/api/v1/storage/\(id)").status == 409)
            _ = await http(s, "DELETE", "/api/v1/instances/\(inst.data!["id"]!.stringValue!)")
            let del = await http(s, "DELETE", "/api/v1/storage/\(id)")
            #expect(del.status == 200)
            #expect(del.data?["message"]?.stringValue != nil)
            #expect(await http(s, "GET", "/api/v1/storage/\(id)").status == 404)
            #expect(await http(s, "PATCH", "/api/v1/storage/\(id)", body: #"{"size_gb":300}"#).status == 404)
            #expect(await http(s, "DELETE", "/api/v1/storage/\(id)").status == 404)
        }
    }

    @Test func templatesArePagedWithMeta() async throws {
        try await withSandbox { s in
            let p1 = await http(s, "GET", "/api/v1/templates?page=1&page_size=2")
            #expect(p1.data?.count == 2)
            #expect(p1.json?["meta"]?["hasMore"] == .bool(true))
            let total = try #require(p1.json?["meta"]?["total"]?.intValue)
            #expect(total > 2)
            let all = await http(s, "GET", "/api/v1/templates?page_size=100")
            #expect(all.data?.count == total)
            #expect(all.json?["meta"]?["hasMore"] == .bool(false))
            #expect(await http(s, "GET", "/api/v1/templates?category=ml").data?.count == 2)
            #expect(await http(s, "GET", "/api/v1/templates?page=0").status == 400)
            #expect(await http(s, "GET", "/api/v1/templates?page_size=1000").status == 400)
        }
    }

    @Test func environmentsCrudAndScoping() async throws {
        try await withSandbox { s in
            let list = await http(s, "GET", "/api/v1/environments")
            #expect(list.data?[0]?["is_default"] == .bool(true))
            let c = await http(s, "POST", "/api/v1/environments", body: #"{"name":"staging"}"#)
            #expect(c.status == 201)
            let envID = try #require(c.data?["id"]?.stringValue)
            #expect(await http(s, "POST", "/api/v1/environments", body: #"{"name":"staging"}"#).status == 409)
            #expect(await http(s, "POST", "/api/v1/environments", body: "{}").errorField == "name")

            let inst = await http(s, "POST", "/api/v1/instances?environment=staging", body: #"{"name":"scoped","gpu_type":"l40s"}"#)
            #expect(inst.status == 201)
            let id = try #require(inst.data?["id"]?.stringValue)
            #expect(await http(s, "GET", "/api/v1/instances").data?.count == 0)
            #expect(await http(s, "GET", "/api/v1/instances?environment=staging").data?.count == 1)
            #expect(await http(s, "GET", "/api/v1/instances/\(id)").status == 404)
            #expect(await http(s, "GET", "/api/v1/instances/\(id)?environment=\(envID)").status == 200)
            let unknown = await http(s, "GET", "/api/v1/instances?environment=nope")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
            // Workspace-wide: keys ignore the environment.
            #expect(await http(s, "GET", "/api/v1/ssh-keys?environment=staging").status == 200)

            #expect(await http(s, "DELETE", "/api/v1/environments/\(envID)").status == 409)
            _ = await http(s, "DELETE", "/api/v1/instances/\(id)?environment=staging")
            let renamed = await http(s, "PATCH", "/api/v1/environments/\(envID)", body: #"{"name":"stage","is_default":true}"#)
            #expect(renamed.data?["name"]?.stringValue == "stage")
            #expect(renamed.data?["is_default"] == .bool(true))
            #expect(await http(s, "DELETE", "/api/v1/environments/\(envID)").status == 409)
            _ = await http(s, "PATCH", "/api/v1/environments/env_default", body: #"{"is_default":true}"#)
            #expect(await http(s, "DELETE", "/api/v1/environments/\(envID)").status == 200)
            #expect(await http(s, "GET", "/api/v1/environments/\(envID)").status == 404)
        }
    }
}
