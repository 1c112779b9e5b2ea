/// HeraldCalibration: calibration routines that run against the capability protocols only, so
/// the same code drives simulated and real instruments. Recipes: Calibration/Recipes/.
public enum HeraldCalibrationModule {}
