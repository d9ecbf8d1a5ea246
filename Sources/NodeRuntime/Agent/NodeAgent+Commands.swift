import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// Commands from the controller and the node API: purge, restart in place, wipe.
extension NodeAgent {
    func handle(_ command: AgentCommand) async {
        switch command {
        case .purgeStaging(let id, let modelId):
            guard handledCommands.withLockedValue({ $0.insert(id).inserted }) else { return }
            await evict(trigger: "purge", keepBytes: 0, only: modelId)
        case .restart(let id):
            guard handledCommands.withLockedValue({ $0.insert(id).inserted }) else { return }
            await restartInPlace()
        case .wipe(let id):
            guard handledCommands.withLockedValue({ $0.insert(id).inserted }) else { return }
            // Erasing disks takes long: heartbeats go on meanwhile, or the controller would think the node lost.
            work.spawn {
                let report = await self.wipe(commandID: id)
                for attempt in 1...5 {
                    guard let token = self.current?.sessionToken else { try? await Task.sleep(for: .seconds(attempt)); continue }
                    do {
                        try await self.link.wiped(token: token, report)
                        return
                    } catch {
                        self.logger.error("wipe done but not yet reported; retrying", metadata: ["error": .string("\(error)")])
                        try? await Task.sleep(for: .seconds(attempt))
                    }
                }
            }
        }
    }

    /// Asks for a restart in place shortly (the caller's answer goes out first); false while shutting down.
    func requestRestart() -> Bool {
        work.spawn {
            try? await Task.sleep(for: .milliseconds(200))
            guard !Task.isCancelled else { return }
            await self.restartInPlace()
        }
    }

    /// `POST /admin/restart`: stop the runners, then replace the process image in place (same
    /// arguments); the new image rejoins with its saved credential.
    func restartInPlace() async {
        logger.notice("restarting in place (re-exec); the node rejoins with a new session")
        events.append(kind: "agent.restart")
        await stopAll()
        // Sockets (the node API's listener) and files must not leak into the new image: it binds the same port.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        let path = "/proc/self/exe"
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv(path, arguments)
        logger.error("re-exec failed", metadata: ["errno": .stringConvertible(errno)])
    }
}
