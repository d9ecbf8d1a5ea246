import Core
import Cryptography
import Foundation
import NIOConcurrencyHelpers
import NodeContract

/// The model store: the authoritative copy of model files, a directory with one `org--name`
/// folder per model. Manifests (size and SHA-256 of every file) are computed on dedicated threads
/// and cached until a file's size or modification time changes.
public final class ModelStore: Sendable {
    public let root: String
    public let workers: BlockingWorkPool

    private struct Cached: Sendable {
        var stamp: String
        var manifest: ModelManifest
    }

    private let cache = NIOLockedValueBox<[String: Cached]>([:])

    public init(root: String, workers: BlockingWorkPool) {
        self.root = root
        self.workers = workers
    }

    /// Model ids in the store.
    public func models() async throws -> [String] {
        let root = self.root
        return try await workers.run {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            return names.sorted().compactMap { name -> String? in
                guard let range = name.range(of: "--") else { return nil }
                let id = name.replacingCharacters(in: range, with: "/")
                var isDirectory: ObjCBool = false
                guard ModelManifest.isValid(id), FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
                return id
            }
        }
    }

    /// The manifest of `modelId`: every regular file under its folder with size and SHA-256.
    public func manifest(_ modelId: String) async throws -> ModelManifest {
        let directory = try self.directory(of: modelId)
        let cache = self.cache
        return try await workers.run {
            let files = try Self.files(in: directory)
            let stamp = files.map { "\($0.path):\($0.size):\($0.modified)" }.joined(separator: "|")
            if let cached = cache.withLockedValue({ $0[modelId] }), cached.stamp == stamp { return cached.manifest }
            let manifest = ModelManifest(modelId: modelId, files: try files.map {
                ModelManifest.File(path: $0.path, bytes: $0.size, sha256: try Self.sha256(ofFileAt: directory + "/" + $0.path))
            })
            cache.withLockedValue { $0[modelId] = Cached(stamp: stamp, manifest: manifest) }
            return manifest
        }
    }

    /// The absolute path of one file of a model, if the manifest lists it (no path tricks reach outside).
    public func filePath(_ modelId: String, _ path: String) async throws -> (path: String, bytes: Int64) {
        let manifest = try await manifest(modelId)
        guard let file = manifest.files.first(where: { $0.path == path }) else { throw StoreFileError.fileNotFound(modelId: modelId, path: path) }
        return (try directory(of: modelId) + "/" + file.path, file.bytes)
    }

    func directory(of modelId: String) throws -> String {
        guard ModelManifest.isValid(modelId) else { throw StoreFileError.invalidModelID(modelId) }
        let path = root + "/" + ModelManifest.directoryName(of: modelId)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreFileError.modelNotFound(modelId)
        }
        return path
    }

    private struct Listed { var path: String; var size: Int64; var modified: Double }

    /// Every regular file under `directory`, hidden ones left out. Symbolic links are followed, to a
    /// file or a folder (operators link a model's folder or its weights from where they keep them),
    /// and listed under the link's own name; a link that leads nowhere is refused, never skipped, so
    /// a model is not staged without its weights.
    private static func files(in directory: String, under prefix: String = "", depth: Int = 0) throws -> [Listed] {
        guard depth < 16 else { throw StoreFileError.brokenLink(prefix, reason: "links nest more than 16 folders deep (a loop?)") }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var files: [Listed] = []
        for name in names where !name.hasPrefix(".") {
            let path = directory + "/" + name
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var attributes = try FileManager.default.attributesOfItem(atPath: path)
            if attributes[.type] as? FileAttributeType == .typeSymbolicLink {
                let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                guard let resolved = try? FileManager.default.attributesOfItem(atPath: target),
                      resolved[.type] as? FileAttributeType != .typeSymbolicLink else {
                    throw StoreFileError.brokenLink(relative, reason: "it points to \((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"), which does not exist")
                }
                attributes = resolved
            }
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                files += try Self.files(in: path, under: relative, depth: depth + 1)
            case .typeRegular?:
                files.append(Listed(path: relative, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                                    modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0))
            default:
                continue
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// SHA-256 of a file read in 1 MiB pieces.
    public static func sha256(ofFileAt path: String) throws -> String {
        guard let hex = try StreamingSHA256.hex(ofFileAt: path) else { throw StoreFileError.unreadable(path) }
        return hex
    }
}

/// Refusals of the model store.
public enum StoreFileError: DomainError, Equatable {
    case invalidModelID(String)
    case modelNotFound(String)
    case fileNotFound(modelId: String, path: String)
    case unreadable(String)
    /// A symbolic link in a model's folder that leads nowhere (or loops).
    case brokenLink(String, reason: String)

    public var code: String {
        switch self {
        case .invalidModelID: "invalid_model_id"
        case .modelNotFound, .fileNotFound: "not_found"
        case .unreadable: "store_unreadable"
        case .brokenLink: "model_link_broken"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .invalidModelID: .invalidRequest
        case .modelNotFound, .fileNotFound: .notFound
        case .unreadable: .internal
        case .brokenLink: .unprocessable
        }
    }

    public var message: String {
        switch self {
        case .invalidModelID(let id): "model id \(id) must be org/name (letters, digits, '.', '_', '-')"
        case .modelNotFound(let id): "model \(id) is not in the store"
        case .fileNotFound(let id, let path): "model \(id) has no file \(path)"
        case .unreadable(let path): "cannot read \(path)"
        case .brokenLink(let path, let reason): "the model's file \(path) is a symbolic link the store cannot follow: \(reason)"
        }
    }
}
