import Foundation

/// Collects every problem with a request before anything is sent. Messages state what was expected
/// and what was got; paths are structured (see `FieldError`).
struct Validator {
    private(set) var errors: [FieldError] = []

    /// Records a problem; a later one for a path that already has one (a type error, then "is
    /// required") is dropped so each field is reported once.
    mutating func add(_ path: [PathComponent], _ message: String) {
        if !path.isEmpty, errors.contains(where: { $0.path == path }) { return }
        errors.append(FieldError(path: path, message: message))
    }

    mutating func add(_ key: String, _ message: String) { add([.key(key)], message) }

    /// Records a rule about the request as a whole that concerns `fields`.
    mutating func add(concerning fields: [String], _ message: String) {
        errors.append(FieldError(path: [], message: message, concerning: fields))
    }

    mutating func requiredString(_ value: String?, _ key: String, maxLength: Int? = nil) {
        guard let value else { return add(key, "is required") }
        nonEmpty(value, [.key(key)], maxLength: maxLength)
    }

    mutating func optionalString(_ value: String?, _ key: String, maxLength: Int? = nil) {
        if let value { nonEmpty(value, [.key(key)], maxLength: maxLength) }
    }

    mutating func nonEmpty(_ value: String, _ path: [PathComponent], maxLength: Int? = nil) {
        if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            add(path, "must be a non-empty string (got \(JSONValue.string(value).shortDescription))")
        } else if let maxLength, value.count > maxLength {
            add(path, "must be at most \(maxLength) characters (got \(value.count))")
        }
    }

    mutating func atLeastOne(_ value: Int?, _ key: String) {
        if let value, value < 1 { add(key, "must be an integer >= 1 (got \(value))") }
    }

    mutating func inRange(_ value: Int?, _ key: String, _ range: ClosedRange<Int>) {
        if let value, !range.contains(value) {
            add(key, "must be an integer from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
    }

    mutating func id(_ value: String) { nonEmpty(value, [.key("id")]) }

    func finish() throws(RuncrateError) {
        if !errors.isEmpty { throw RuncrateError.validation(errors) }
    }
}
