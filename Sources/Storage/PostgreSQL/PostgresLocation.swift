/// Where a PostgreSQL store lives: `postgresql://user:password@host1:5432,host2:5433/database`.
///
/// Several hosts name one cluster's members; the store connects to the one that accepts writes
/// (`pg_is_in_recovery()` false), as libpq's `target_session_attrs=read-write` does, and looks
/// again after a failover.
public struct PostgresLocation: Sendable, Equatable {
    /// One member of the cluster.
    public struct Host: Sendable, Equatable {
        public var name: String
        public var port: Int

        public init(name: String, port: Int) {
            self.name = name
            self.port = port
        }
    }

    public var hosts: [Host]
    public var username: String
    public var password: String?
    public var database: String
    /// Seconds to wait for a TCP connection to one host (`connect_timeout`, default 2).
    public var connectTimeoutSeconds: Int

    /// Parses a `postgresql://` or `postgres://` URL; nil when it is not one.
    public init?(url: String) {
        let schemes = ["postgresql://", "postgres://"]
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else { return nil }
        var rest = Substring(url.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var credentials: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostList = rest[..<slash]
        let name = slash < rest.endIndex ? rest[rest.index(after: slash)...] : ""
        let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        username = parts.first.map { Self.decode($0) } ?? ""
        password = parts.count > 1 ? Self.decode(parts[1]) : nil
        if username.isEmpty { username = "postgres" }
        database = name.isEmpty ? username : Self.decode(name)
        var hosts: [Host] = []
        for entry in hostList.split(separator: ",") {
            let pieces = entry.split(separator: ":", maxSplits: 1)
            guard let host = pieces.first, !host.isEmpty else { return nil }
            let port = pieces.count > 1 ? Int(pieces[1]) : 5432
            guard let port, (1...65535).contains(port) else { return nil }
            hosts.append(Host(name: String(host), port: port))
        }
        guard !hosts.isEmpty else { return nil }
        self.hosts = hosts
        connectTimeoutSeconds = 2
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "connect_timeout", let seconds = Int(kv[1]), seconds > 0 { connectTimeoutSeconds = seconds }
        }
    }

    /// The URL without its password, for logs.
    public var redacted: String {
        "postgresql://\(username)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",") + "/\(database)"
    }

    private static func decode(_ text: Substring) -> String {
        String(text).removingPercentEncodingPortable
    }
}

extension String {
    /// `%XX` escapes decoded (credentials in a URL may contain `@`, `:` or `/`).
    fileprivate var removingPercentEncodingPortable: String {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
