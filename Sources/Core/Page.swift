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

    /// Unwraps a cursor; nil when it was not made by `encode`.
    public static func decode(_ cursor: String) -> String? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("v1:") else { return nil }
        return String(text.dropFirst(3))
    }
}
