import Foundation

/// A request for one page of a list: at most `limit` items after the opaque `cursor`.
public struct PageRequest: Sendable, Equatable {
    /// The most items a page may hold.
    public static let maxLimit = 500
    /// The page size when the caller names none.
    public static let defaultLimit = 50

    /// Items to return, 1 … `maxLimit`.
    public var limit: Int
    /// The sort key of the last item of the previous page, decoded from the cursor.
    public var after: String?

    /// A page request; the limit is clamped to 1 … `maxLimit`.
    public init(limit: Int = PageRequest.defaultLimit, after: String? = nil) {
        self.limit = min(max(limit, 1), PageRequest.maxLimit)
        self.after = after
    }
}

/// One page of results and the cursor for the next, if there is one.
public struct Page<Item: Sendable>: Sendable {
    /// The items on this page, in list order.
    public var items: [Item]
    /// The opaque cursor to pass back for the next page; nil on the last page.
    public var nextCursor: String?

    /// A page from items fetched with one extra row to tell whether more follow.
    public init(fetched: [Item], request: PageRequest, key: (Item) -> String) {
        if fetched.count > request.limit {
            items = Array(fetched.prefix(request.limit))
            nextCursor = Cursor.encode(key(items[items.count - 1]))
        } else {
            items = fetched
            nextCursor = nil
        }
    }

    /// A page with given items and cursor.
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Opaque pagination cursors: base64url of the last sort key, so clients cannot depend on the format.
public enum Cursor {
    /// Wraps a sort key into a cursor.
    public static func encode(_ key: String) -> String {
        Data(("v1:" + key).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Unwraps a cursor; nil when it is not `v1:` and a key in unpadded base64url. Any such cursor
    /// is a position (the first key after it), so one a client made up pages from there, never fails.
    public static func decode(_ cursor: String) -> String? {
        var bytes: [UInt8] = []
        var bits: UInt32 = 0
        var count = 0
        for character in cursor.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            bits = (bits << 6) | UInt32(value)
            count += 6
            if count >= 8 {
                count -= 8
                bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        // One character over a whole group carries no byte: not base64.
        guard cursor.utf8.count % 4 != 1 else { return nil }
        // Compared as bytes: a key starting with a combining mark would join the ':' in a String.
        guard bytes.starts(with: Array("v1:".utf8)) else { return nil }
        return String(decoding: bytes.dropFirst(3), as: UTF8.self)
    }
}

/// Every item of a paged listing, read page by page (for loops that need the whole set, never for a response).
public func allPages<Item: Sendable>(_ fetch: (PageRequest) async throws -> Page<Item>) async throws -> [Item] {
    var items: [Item] = []
    var request = PageRequest(limit: PageRequest.maxLimit)
    while true {
        let page = try await fetch(request)
        items += page.items
        guard let next = page.nextCursor, let key = Cursor.decode(next) else { return items }
        request.after = key
    }
}
