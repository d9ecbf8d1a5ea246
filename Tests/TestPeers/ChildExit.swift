@_exported import Core

/// The tests wait for their children the way production code does (`Core.ProcessExit`): by
/// Foundation's account or by `/proc`, never with `waitUntilExit`.
public typealias ChildExit = ProcessExit
