// The umbrella module for scripts: `import Herald` gives the whole public API.
@_exported public import HeraldAnalysis
@_exported public import HeraldCalibration
@_exported public import HeraldControl
@_exported public import HeraldCore
@_exported public import HeraldDrivers
@_exported public import HeraldIO
@_exported public import HeraldSimulation
@_exported public import ZeroMQ
