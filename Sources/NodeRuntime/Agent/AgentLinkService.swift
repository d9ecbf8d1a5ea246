import ServiceLifecycle

/// Runs the agent's link loop in a ServiceGroup; on SIGTERM the loop ends and the runners stop.
public struct AgentLinkService: Service {
    let agent: NodeAgent

    public init(agent: NodeAgent) { self.agent = agent }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await agent.runLink() }
    }
}
