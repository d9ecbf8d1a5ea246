import Foundation

/// The keys backups are encrypted with, by id. New backups use `currentID`; every configured key
/// can still open the backups made with it, so a key is rotated by adding a new one and making it
/// current, and retired only once no kept backup names it.
public struct BackupKeyring: Sendable {
    public let currentID: String
    private let keys: [String: [UInt8]]

    /// From `id:base64key` entries separated by commas (e.g. `METALPLANE_BACKUP_KEYS`); each key is 32 bytes.
    public init(spec: String, currentID: String?) throws(BackupError) {
        var keys: [String: [UInt8]] = [:]
        var order: [String] = []
        for entry in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let colon = entry.firstIndex(of: ":") else { throw .notConfigured("backup key entry \"\(entry.prefix(12))…\" is not id:base64") }
            let id = String(entry[..<colon])
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw .notConfigured("backup key id \"\(id)\" must be letters, digits, - _ .")
            }
            guard let key = Data(base64Encoded: String(entry[entry.index(after: colon)...])), key.count == 32 else {
                throw .notConfigured("backup key \(id) must be 32 bytes in base64 (openssl rand -base64 32)")
            }
            keys[id] = Array(key)
            order.append(id)
        }
        guard let last = order.last else { throw .notConfigured("no backup key (set backupKeys: id:base64, e.g. from openssl rand -base64 32)") }
        let current = currentID ?? last
        guard keys[current] != nil else { throw .unknownKey(current) }
        self.currentID = current
        self.keys = keys
    }

    public func key(_ id: String) throws(BackupError) -> [UInt8] {
        guard let key = keys[id] else { throw .unknownKey(id) }
        return key
    }

    public var ids: [String] { keys.keys.sorted() }
}
