import Foundation

/// The store's description of a model: every file with its size and SHA-256, which staging verifies.
public struct ModelManifest: Sendable, Codable, Equatable {
    public struct File: Sendable, Codable, Equatable {
        /// Relative to the model's directory.
        public var path: String
        public var bytes: Int64
        public var sha256: String

        public init(path: String, bytes: Int64, sha256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// `org/name`.
    public var modelId: String
    public var files: [File]

    public var totalBytes: Int64 { files.map(\.bytes).reduce(0, +) }

    public init(modelId: String, files: [File]) {
        self.modelId = modelId
        self.files = files
    }

    /// The directory name of a model id in the store and in staging: `org/name` → `org--name`.
    public static func directoryName(of modelId: String) -> String {
        modelId.replacingOccurrences(of: "/", with: "--")
    }

    /// Whether `modelId` is `org/name` with safe characters (no path tricks).
    public static func isValid(_ modelId: String) -> Bool {
        let parts = modelId.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { part in
            (1...128).contains(part.count) && part != "." && part != ".." && !part.contains("--")
                && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        }
    }
}
