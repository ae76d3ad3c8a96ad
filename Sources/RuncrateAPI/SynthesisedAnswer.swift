import Foundation

extension PreparedRequest {
    /// The response this request's own decoder makes of `body` answered with `status`: how a
    /// transport that does not send (the dry run's) answers, so its results are the same models a
    /// real answer gives. `nil` body is an empty one (a 204).
    public func answer(status: Int, body: JSONValue?) throws(RuncrateError) -> Response {
        try decode(RawResponse(status: status, body: body.map { Data(JSONValue.object(["data": $0]).serialized.utf8) } ?? Data()))
    }
}
