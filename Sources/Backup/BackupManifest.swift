import Foundation

/// What a backup holds and how to check it, stored beside its parts as `manifest.json` and
/// written last: a backup without a manifest never finished and is not listed.
public struct BackupManifest: Codable, Sendable, Equatable {
    public struct Part: Codable, Sendable, Equatable {
        /// `store` (the SQLite snapshot), `secrets` (the key sealing BMC credentials), `configuration`.
        public var name: String
        /// The object's name under the backup's folder.
        public var file: String
        public var plainBytes: Int64
        public var plainSHA256: String
        public var storedBytes: Int64
        public var storedSHA256: String
    }

    public var format = 1
    public var id: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var controllerVersion: String
    /// Applied schema version per module, from `schema_migrations`.
    public var schemaVersions: [String: Int]
    public var keyId: String
    public var compression = "zlib"
    public var encryption = "AES-256-GCM, 4 MiB frames"
    public var durationMillis: Int64
    public var parts: [Part]
    /// How the `store` part was taken: `sqlite` (the store file, `VACUUM INTO`) or `postgresql` (every row of one
    /// snapshot of a PostgreSQL store, copied into a SQLite file of the same schema). Absent in older backups: sqlite.
    public var storeSource: String? = nil

    public var storedBytes: Int64 { parts.reduce(0) { $0 + $1.storedBytes } }

    /// A new backup's id: sortable by time, e.g. `bk-20261123T184500Z-3fa9c1`.
    public static func newID(at millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
        return "bk-\(stamp)-\(String(UInt32.random(in: 0...0xFFFFFF), radix: 16).leftPadded(to: 6))"
    }

    /// Whether `id` has the shape of a backup id (it becomes part of object names and paths).
    public static func isValidID(_ id: String) -> Bool {
        id.hasPrefix("bk-") && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    static let folder = "backups/"
    static func objectName(_ id: String, _ file: String) -> String { folder + id + "/" + file }
}

extension String {
    func leftPadded(to length: Int) -> String { count >= length ? self : String(repeating: "0", count: length - count) + self }
}
