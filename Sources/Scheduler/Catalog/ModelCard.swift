import Core
import Foundation
import NodeContract

/// What the catalog knows of a model, from the card in its store folder (`metalplane-model.json`)
/// and the store's manifest (the weight bytes).
public struct ModelCard: Sendable, Equatable, Codable {
    public var modelId: String
    /// Bytes of weights per quantization (the manifest's total for the stored one).
    public var weightBytes: [String: Int64]
    public var quantization: String
    public var layers: Int
    public var hiddenSize: Int?
    public var tensorSharding: Bool
    /// Drafter, MTP sidecar, vision weights: staged and kept in use beside the model.
    public var companions: [String]
    /// KV cache, activations and the runner, as a factor on the weights.
    public var overheadFactor: Double
    public var engines: [EngineKind]
    /// The OpenAI-style endpoints its engine is started to serve (`chat/completions`, `completions`,
    /// `embeddings`, `rerank`, `responses`); an embedding model lists `embeddings`, and the engine is
    /// launched with the flag that turns it on (llama-server's `--embeddings`).
    public var endpoints: [String]

    /// The card file's fields; all optional, defaults below.
    struct File: Decodable {
        var quantization: String?
        var layers: Int?
        var hiddenSize: Int?
        var tensorSharding: Bool?
        var companions: [String]?
        var overheadFactor: Double?
        var engines: [EngineKind]?
        var weightBytes: [String: Int64]?
        var endpoints: [String]?
    }

    static let fileName = "metalplane-model.json"

    /// The card of a stored model: its file's fields over defaults (1 layer, no tensor sharding, overhead 1.2, every engine).
    static func make(modelId: String, manifest: ModelManifest, file: File?) -> ModelCard {
        let quantization = file?.quantization ?? "stored"
        var weights = file?.weightBytes ?? [:]
        weights[quantization] = weights[quantization] ?? manifest.files.filter { $0.path != fileName }.map(\.bytes).reduce(0, +)
        return ModelCard(modelId: modelId, weightBytes: weights, quantization: quantization, layers: max(file?.layers ?? 1, 1),
                         hiddenSize: file?.hiddenSize, tensorSharding: file?.tensorSharding ?? false, companions: file?.companions ?? [],
                         overheadFactor: max(file?.overheadFactor ?? 1.2, 1), engines: file?.engines ?? EngineKind.allCases,
                         endpoints: file?.endpoints ?? EngineKind.defaultEndpoints)
    }

    /// What placement needs.
    public var placementModel: PlacementModel {
        PlacementModel(id: modelId, weightBytes: weightBytes[quantization] ?? 0, layers: layers, supportsTensorSharding: tensorSharding,
                       overheadFactor: overheadFactor)
    }
}

extension ModelStore {
    /// The catalog entry of a stored model.
    public func card(_ modelId: String) async throws -> ModelCard {
        let manifest = try await manifest(modelId)
        let directory = try directory(of: modelId)
        let file = try await workers.run { () -> ModelCard.File? in
            guard let data = FileManager.default.contents(atPath: directory + "/" + ModelCard.fileName) else { return nil }
            return try JSONDecoder().decode(ModelCard.File.self, from: data)
        }
        return ModelCard.make(modelId: modelId, manifest: manifest, file: file)
    }
}
