import Core
import Foundation

/// Where backups are kept: whole objects by name (`backups/<id>/<file>`), moved from and to local files.
public protocol BackupTarget: Sendable {
    /// For logs and run records, e.g. `dir:/var/backups/metalplane` or `s3://bucket/prefix`.
    var description: String { get }
    func put(_ name: String, from file: String) async throws
    func get(_ name: String, to file: String) async throws
    /// Names of the objects under `prefix`.
    func list(prefix: String) async throws -> [String]
    func delete(_ name: String) async throws
}

/// A directory on this machine (or a mounted share). Objects are written to a temporary name,
/// synced, then renamed, so a crash never leaves a half object under its real name.
public struct DirectoryTarget: BackupTarget {
    public let root: String
    let workers: BlockingWorkPool

    public init(root: String, workers: BlockingWorkPool) {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
        self.workers = workers
    }

    public var description: String { "dir:" + root }

    public func put(_ name: String, from file: String) async throws {
        let destination = try path(name)
        try await workers.run {
            let manager = FileManager.default
            try manager.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let temporary = destination + ".partial"
            try? manager.removeItem(atPath: temporary)
            try manager.copyItem(atPath: file, toPath: temporary)
            guard let handle = FileHandle(forUpdatingAtPath: temporary) else { throw BackupError.target("cannot open \(temporary)") }
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, destination) == 0 else { throw BackupError.target("cannot rename into \(destination): errno \(errno)") }
        }
    }

    public func get(_ name: String, to file: String) async throws {
        let source = try path(name)
        try await workers.run {
            guard FileManager.default.fileExists(atPath: source) else { throw BackupError.notFound(name) }
            try? FileManager.default.removeItem(atPath: file)
            try FileManager.default.copyItem(atPath: source, toPath: file)
        }
    }

    public func list(prefix: String) async throws -> [String] {
        let root = self.root
        return try await workers.run {
            guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
            var names: [String] = []
            while let relative = walker.nextObject() as? String {
                var isDirectory: ObjCBool = false
                guard relative.hasPrefix(prefix), !relative.hasSuffix(".partial"),
                      FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                names.append(relative)
            }
            return names.sorted()
        }
    }

    public func delete(_ name: String) async throws {
        let target = try path(name)
        try await workers.run {
            try? FileManager.default.removeItem(atPath: target)
            // An emptied backup folder goes too.
            let folder = (target as NSString).deletingLastPathComponent
            if (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true { try? FileManager.default.removeItem(atPath: folder) }
        }
    }

    private func path(_ name: String) throws -> String {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw BackupError.target("object name \(name) is not allowed")
        }
        return root + "/" + name
    }
}
