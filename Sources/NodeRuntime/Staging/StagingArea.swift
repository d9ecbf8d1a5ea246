import Foundation
import NodeContract

/// The node-local staging folder: one `org--name` folder per model, a manifest copy written last
/// (so a folder without it is a copy in progress or interrupted), and a last-use stamp.
/// Every method blocks on the filesystem: call them from the agent's worker threads.
struct StagingArea: Sendable {
    let root: String

    static let manifestName = ".metalplane-manifest.json"
    static let lastUsedName = ".metalplane-last-used"

    struct Entry: Equatable {
        var modelId: String
        var bytes: Int64
        var lastUsedAt: Int64?
        var complete: Bool
    }

    func directory(of modelId: String) -> String { root + "/" + ModelManifest.directoryName(of: modelId) }

    /// Every staged folder (complete or not), with its size on disk and last use.
    func entries() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap { name in
            guard let range = name.range(of: "--") else { return nil }
            let modelId = name.replacingCharacters(in: range, with: "/")
            let path = root + "/" + name
            let lastUsed = (try? String(contentsOfFile: path + "/" + Self.lastUsedName, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return Entry(modelId: modelId, bytes: Self.size(of: path), lastUsedAt: lastUsed,
                         complete: FileManager.default.fileExists(atPath: path + "/" + Self.manifestName))
        }
    }

    /// The manifest a complete copy was verified against, if any.
    func completedManifest(of modelId: String) -> ModelManifest? {
        guard let data = FileManager.default.contents(atPath: directory(of: modelId) + "/" + Self.manifestName) else { return nil }
        return try? JSONDecoder().decode(ModelManifest.self, from: data)
    }

    /// Marks the copy complete: written last, after every file was verified and renamed into place.
    func markComplete(_ manifest: ModelManifest) throws {
        let path = directory(of: manifest.modelId) + "/" + Self.manifestName
        try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: path + ".tmp"))
        try Self.rename(path + ".tmp", to: path)
    }

    /// Records that an instance used the model now.
    func touch(_ modelId: String, at millis: Int64) {
        let folder = directory(of: modelId)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? String(millis).write(toFile: folder + "/" + Self.lastUsedName, atomically: true, encoding: .utf8)
    }

    func remove(_ modelId: String) throws {
        try FileManager.default.removeItem(atPath: directory(of: modelId))
    }

    /// Free bytes on the staging volume.
    func freeBytes() -> Int64 {
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return ((try? FileManager.default.attributesOfFileSystem(forPath: root))?[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
    }

    static func size(of path: String) -> Int64 {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let relative = enumerator.nextObject() as? String {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + relative),
               attributes[.type] as? FileAttributeType == .typeRegular {
                total += (attributes[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }

    /// rename(2): atomic within one filesystem, replacing the target.
    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw AgentError.io("rename \(from) → \(to): errno \(errno)") }
    }
}

/// The one eviction rule, used by all three triggers: models in use (companions included) are never
/// candidates; the rest are kept newest-first by last use while they fit the grace budget, and
/// everything beyond it is deleted. A purge uses a budget of 0.
enum EvictionPlan {
    static func victims(_ entries: [StagingArea.Entry], inUse: Set<String>, keepBytes: Int64, only modelId: String? = nil) -> [String] {
        let candidates = entries
            .filter { !inUse.contains($0.modelId) && (modelId == nil || $0.modelId == modelId) }
            .sorted { ($0.lastUsedAt ?? 0, $1.modelId) > ($1.lastUsedAt ?? 0, $0.modelId) }
        var kept: Int64 = 0
        var victims: [String] = []
        for entry in candidates {
            // Once the budget is reached, every older copy goes (an old small copy never outlives a newer big one).
            if victims.isEmpty && kept + entry.bytes <= keepBytes {
                kept += entry.bytes
            } else {
                victims.append(entry.modelId)
            }
        }
        return victims
    }
}
