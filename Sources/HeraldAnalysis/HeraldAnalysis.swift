/// HeraldAnalysis: streaming analysis of `TagBatch`es (rates, coincidences, correlation,
/// visibility, CAR, QBER) and the tag file formats (PicoQuant PTU, Herald recordings).
public enum HeraldAnalysisModule {}
