import Core

/// Request ids: the caller's `X-Request-Id` when it is sane, else a new one. Every server of the
/// controller (the REST API and the gateway) answers with one.
public enum RequestID {
    /// 1–128 visible ASCII characters, no quotes: safe to log and echo.
    public static func isAcceptable(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 }
    }

    /// A new id, `req-` and 64 bits in hex, unique in the process (no system call: two per routed request otherwise).
    public static func generate() -> String {
        "req-" + String(UniqueNumbers.next(), radix: 16)
    }
}
