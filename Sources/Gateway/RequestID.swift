
/// Request ids: the caller's `X-Request-Id` when it is sane, else a new one. Every server of the
/// controller (the REST API and the gateway) answers with one.
public enum RequestID {
    /// 1–128 visible ASCII characters, no quotes: safe to log and echo.
    public static func isAcceptable(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }
    }

    /// A new id, `req-` and 64 random bits in hex.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let value: UInt64 = generator.next()
        return "req-" + String(value, radix: 16)
    }
}
