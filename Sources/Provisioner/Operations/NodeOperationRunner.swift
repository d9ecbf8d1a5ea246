import ServiceLifecycle

/// The reconcile loop for long node operations: runs what is due, then looks again after `interval`.
/// Operations left running by a stopped controller are picked up at the next start.
public struct NodeOperationRunner: Service {
    let nodes: NodeService
    let interval: Duration

    public init(nodes: NodeService, interval: Duration = .milliseconds(250)) {
        self.nodes = nodes
        self.interval = interval
    }

    public func run() async throws {
        await nodes.requeueWaitingOperations()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let ran = await nodes.runDueOperations()
            if ran == 0 { try? await Task.sleep(for: interval) }
        }
    }
}
