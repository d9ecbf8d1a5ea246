/// A value bound to or read from SQL: the portable subset both SQLite and PostgreSQL share.
///
/// Binary data is stored as text (base64 or hex) so that domain SQL stays portable.
public enum SQLValue: Sendable, Equatable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension SQLValue {
    /// Text, or NULL for nil.
    public static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// An integer of any width, or NULL for nil.
    public static func int(_ value: (some BinaryInteger)?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
    /// Booleans are stored as 0/1 integers.
    public static func bool(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
}
