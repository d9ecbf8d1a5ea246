import NIOCore
import IAM
import HTTPTypes
import Core
import Hummingbird

/// Typed reads of query parameters and conditional headers; bad values are 400s naming the parameter.
extension Request {
    /// `limit` and `cursor` as a page request.
    func pageRequest() throws -> PageRequest {
        let query = uri.queryParameters
        var limit = PageRequest.defaultLimit
        if let text = query["limit"] {
            guard let number = Int(text), (1...PageRequest.maxLimit).contains(number) else {
                throw PortalError.invalidQuery(parameter: "limit", reason: "must be an integer in 1…\(PageRequest.maxLimit)")
            }
            limit = number
        }
        var after: String?
        if let cursor = query["cursor"] {
            guard let key = Cursor.decode(String(cursor)) else { throw PortalError.invalidQuery(parameter: "cursor", reason: "is not a cursor this server issued") }
            after = key
        }
        return PageRequest(limit: limit, after: after)
    }

    /// A string filter.
    func queryString(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map(String.init)
    }

    /// An integer in `range`, or `fallback` when absent; anything else is a 400 naming the parameter.
    func queryInt(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = uri.queryParameters[Substring(name)] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw PortalError.invalidQuery(parameter: name, reason: "must be an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    /// A boolean filter (`true`/`false`).
    func queryBool(_ name: String) throws -> Bool? {
        guard let text = uri.queryParameters[Substring(name)] else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw PortalError.invalidQuery(parameter: name, reason: "must be true or false")
        }
    }

    /// A time filter: milliseconds since 1970 or an RFC 3339 timestamp.
    func queryTime(_ name: String) throws -> Int64? {
        guard let text = uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        if text.utf8.count <= 15, let millis = Int64(text), millis >= 0 { return millis }
        if let millis = RFC3339.millis(text) { return millis }
        throw PortalError.invalidQuery(parameter: name, reason: "must be milliseconds since 1970 or an RFC 3339 time")
    }

    /// The version named by `If-Match` (`"3"`, `W/"3"` or `3`); nil when absent or `*`.
    func ifMatchVersion() throws -> Int64? {
        guard let value = headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), value != "*" else { return nil }
        let bare = value.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let version = Int64(bare) else { throw PortalError.invalidHeader(name: "If-Match", reason: "must be an ETag this server issued, like \"3\"") }
        return version
    }
}

import Foundation
