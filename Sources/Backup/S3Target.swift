import ObjectStore

/// An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, …), objects under an optional prefix.
public struct S3Target: BackupTarget {
    let client: S3Client
    let prefix: String

    public init(client: S3Client, prefix: String) {
        self.client = client
        var prefix = prefix
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        self.prefix = prefix
    }

    public var description: String { "s3://\(client.settings.bucket)/\(prefix)" + (client.settings.pathStyle ? "" : " (virtual-host)") }

    public func put(_ name: String, from file: String) async throws {
        do { try await client.put(prefix + name, from: file) } catch { throw BackupError.target("\(error)") }
    }

    public func get(_ name: String, to file: String) async throws {
        do {
            try await client.get(prefix + name, to: file)
        } catch is S3NotFound {
            throw BackupError.notFound(name)
        } catch {
            throw BackupError.target("\(error)")
        }
    }

    public func list(prefix listed: String) async throws -> [String] {
        do { return try await client.list(prefix: prefix + listed).map { String($0.dropFirst(prefix.count)) } } catch { throw BackupError.target("\(error)") }
    }

    public func delete(_ name: String) async throws {
        do { try await client.delete(prefix + name) } catch { throw BackupError.target("\(error)") }
    }
}
