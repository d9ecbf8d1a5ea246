import Foundation

/// The agent's node credential, kept in its state directory (mode 0600) so that after a restart
/// it rejoins with no manual step and no new join token.
struct CredentialFile {
    struct Contents: Codable {
        var agentId: String
        var nodeCredential: String
        var controllerURL: String
    }

    let path: String

    init(stateDirectory: String) { path = stateDirectory + "/agent-credential.json" }

    func load() -> Contents? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Contents.self, from: data)
    }

    func save(_ contents: Contents) throws {
        let data = try JSONEncoder().encode(contents)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw AgentError.io("cannot write \(temporary)")
        }
        try StagingArea.rename(temporary, to: path)
    }
}

/// Failures inside the agent.
public enum AgentError: Error, CustomStringConvertible {
    case io(String)
    case controller(status: Int, body: String)
    case staging(modelId: String, reason: String)
    case engine(String)

    public var description: String {
        switch self {
        case .io(let text): text
        case .controller(let status, let body): "controller answered \(status): \(body)"
        case .staging(let model, let reason): "staging \(model): \(reason)"
        case .engine(let text): text
        }
    }
}
