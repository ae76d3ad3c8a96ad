import CLua
import CLuaShim
import Foundation
import LuaBridge
import RuncrateAPI

/// `--json`: the one document a run prints on stdout — the script's result, or the error that ended
/// it as `{"error": {...}}`; in a dry run `{"result": …, "plan": …}` (or `{"error": …, "plan": …}`).
extension RuncrateModule {
    /// A result that JSON cannot hold (a function, userdata or thread, or a table holding one).
    public struct JSONResultError: Error, CustomStringConvertible {
        public let description: String
    }

    /// JSON text for `count` values from `first`: `null` for none, the value for one, an array for
    /// several. Encoded by `runcrate.json.encode` (secrets as `***`). Stack: unchanged.
    public func jsonResults(from first: Int32, count: Int32, in L: LuaState) -> Result<String, JSONResultError> {
        let first = L.absindex(first)
        var texts: [String] = []
        for i in 0..<max(0, count) {
            let index = first + i
            let which = count == 1 ? "the script's result" : "the script's result \(i + 1)"
            switch L.type(at: index) {
            case .function, .userdata, .lightuserdata, .thread:
                return .failure(JSONResultError(description:
                    "\(which) is a \(L.typename(at: index)), which JSON cannot hold (return nil, a boolean, a number, a string or a table)"))
            default:
                switch encodeJSON(at: index, in: L) {
                case .success(let text): texts.append(text)
                case .failure(let why): return .failure(JSONResultError(description: "\(which) cannot be written as JSON: \(why)"))
                }
            }
        }
        switch texts.count {
        case 0: return .success("null")
        case 1: return .success(texts[0])
        default: return .success("[" + texts.joined(separator: ",") + "]")
        }
    }

    /// The `{code=, message=, where=, …}` object for the error that ended the run. A module error
    /// object is written with all its fields; a string error gets code `error` (or `kind`: timeout,
    /// interrupted, memory, syntax_error) and its `file:line:` as `where`. `report` is the message as
    /// printed (used when the error value did not pass the message handler). Stack: unchanged.
    public func jsonError(kind: String, report: String, in L: LuaState) -> String {
        let top = L.gettop()
        defer { L.settop(top) }
        if kind == "error" || kind == "interrupted" {
            L.rawget(L.registryIndex, field: RCSHIM_LAST_ERROR_KEY)
            if L.type(at: -1) == .table, isModuleError(at: -1, in: L), case .success(let text) = encodeJSON(at: -1, in: L) {
                return text
            }
            if kind == "error", let raised = L.tostring(-1) {
                return Self.jsonError(code: kind, text: raised)
            }
        }
        var text = report.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? report
        if kind == "timeout", let range = text.range(of: "timeout: ") { text.removeSubrange(range) }
        return Self.jsonError(code: kind, text: text)
    }

    /// `{"code": code, "message": …, "where": "file:line:"}` from an error message `file:line: text`.
    static func jsonError(code: String, text: String) -> String {
        var fields: [String: JSONValue] = ["code": .string(code), "message": .string(text)]
        if let range = text.range(of: #"^[^\n]*?:[0-9]+:"#, options: .regularExpression) {
            fields["where"] = .string(String(text[range]))
            fields["message"] = .string(String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces))
        }
        return JSONValue.object(fields).serialized
    }

    /// The document: `result` or `error` (JSON text), with the plan in a dry run. Secrets redacted.
    public func jsonDocument(result: String?, error: String?) -> String {
        let body: String
        if let error {
            body = #"{"error":"# + error + (planJSON.map { #","plan":"# + $0 } ?? "") + "}"
        } else if let plan = planJSON {
            body = #"{"result":"# + (result ?? "null") + #","plan":"# + plan + "}"
        } else {
            body = result ?? "null"
        }
        return secrets.redact(body)
    }

    func isModuleError(at index: Int32, in L: LuaState) -> Bool {
        let i = L.absindex(index)
        let top = L.gettop()
        defer { L.settop(top) }
        guard L.getmetatable(i) else { return false }
        L.pushref(moduleRef)
        L.rawget(-1, field: "Error")
        return L.rawequal(-1, -3)
    }

    /// The value as JSON text (`runcrate.json.encode`'s encoder, called directly); the failure's
    /// message without its `json.encode: ` prefix.
    private func encodeJSON(at index: Int32, in L: LuaState) -> Result<String, JSONResultError> {
        do throws(JSONEncodeFailure) {
            return .success(try encodedJSON(at: index, in: L))
        } catch {
            var why = error.message
            if why.hasPrefix("json.encode: ") { why.removeFirst("json.encode: ".count) }
            return .failure(JSONResultError(description: why))
        }
    }
}
