import Core
import Foundation
import NodeContract
import Scheduler
import Testing

/// Operators place models in the store as symbolic links to where the weights live; the manifest
/// (what the node stages) must carry the weights themselves.
@Suite struct ModelStoreLinkTests {
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func linkedWeightsAndLinkedFoldersAreFollowed() async throws {
        let root = try Self.scratch()
        let elsewhere = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: elsewhere) }
        let weights = Data(repeating: 7, count: 100_000)
        try weights.write(to: URL(fileURLWithPath: elsewhere + "/real.gguf"))
        try FileManager.default.createDirectory(atPath: elsewhere + "/tokenizer", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: elsewhere + "/tokenizer/vocab.json"))
        try FileManager.default.createDirectory(atPath: root + "/acme--linked", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/acme--linked/model.gguf", withDestinationPath: elsewhere + "/real.gguf")
        try FileManager.default.createSymbolicLink(atPath: root + "/acme--linked/tokenizer", withDestinationPath: elsewhere + "/tokenizer")
        // The whole model folder as a link, too.
        try FileManager.default.createSymbolicLink(atPath: root + "/acme--whole", withDestinationPath: elsewhere)

        let workers = BlockingWorkPool(threads: 1)
        let store = ModelStore(root: root, workers: workers)
        let linked = try await store.manifest("acme/linked")
        #expect(linked.files.map(\.path) == ["model.gguf", "tokenizer/vocab.json"])
        #expect(linked.files.first?.bytes == Int64(weights.count))
        #expect(linked.files.first?.sha256 == (try ModelStore.sha256(ofFileAt: elsewhere + "/real.gguf")))
        let whole = try await store.manifest("acme/whole")
        #expect(whole.files.map(\.path) == ["real.gguf", "tokenizer/vocab.json"])
        let served = try await store.filePath("acme/linked", "model.gguf")
        #expect(FileManager.default.contents(atPath: served.path) == weights)
        await workers.shutdown()
    }

    @Test func aLinkToNothingIsRefusedNotSkipped() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/acme--dangling", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/acme--dangling/model.gguf", withDestinationPath: root + "/gone.gguf")
        let workers = BlockingWorkPool(threads: 1)
        let store = ModelStore(root: root, workers: workers)
        await #expect(throws: StoreFileError.brokenLink("model.gguf", reason: "it points to \(root)/gone.gguf, which does not exist")) {
            _ = try await store.manifest("acme/dangling")
        }
        await workers.shutdown()
    }
}
