"""Severities for checkov's checks, which checkov itself reports only with a Prisma Cloud key.

Without a key nearly every checkov finding has no severity, and a gate that read "no severity"
as medium would never block at the default ``fail_on: high``. lmi-delivery ships this table
instead: a severity for each checkov category (:data:`CATEGORY_SEVERITY`, applied to every
Terraform AWS check of checkov, :data:`BY_CATEGORY`), and a severity chosen check by check
(:data:`CHOSEN`) where the category says too little: the checks that test what lmi-delivery's
own rules test get the severity of that rule (``Action "*"``: critical like SEC001, internet
ingress: high like SEC010, hard-coded secrets: critical like SEC031), public exposure is high,
and hygiene checks (descriptions, DLQs, tracing, password policies of IAM users) are low.

:func:`severity` answers a check id with the severity and the mapping that gave it. Order:
the configuration's override (``gates.security.severities``), then the severity checkov
reported (a Prisma Cloud key), then :data:`CHOSEN`, then the category, then medium for a
check the table does not know (not an AWS check, or one newer than the table). The table was
generated from checkov 3.3.30 by ``benchmarks/checkov_severity_table.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from lmi_delivery.config.model import Severity

TABLE_VERSION = "checkov 3.3.30"
DEFAULT: Severity = "medium"

CATEGORY_SEVERITY: dict[str, Severity] = {
    "SECRETS": "critical",
    "IAM": "high",
    "NETWORKING": "medium",
    "ENCRYPTION": "medium",
    "GENERAL_SECURITY": "medium",
    "APPLICATION_SECURITY": "medium",
    "SUPPLY_CHAIN": "low",
    "KUBERNETES": "medium",
    "AI_AND_ML": "medium",
    "LOGGING": "low",
    "BACKUP_AND_RECOVERY": "low",
}


def _each(severity: Severity, *ids: str) -> dict[str, Severity]:
    return dict.fromkeys(ids, severity)


#: Severities chosen check by check (over the category's).
CHOSEN: dict[str, Severity] = {
    # IAM that grants everything, as SEC001 (critical): "*-*" admin, Action "*", the
    # AdministratorAccess managed policy.
    **_each("critical", "CKV_AWS_1", "CKV_AWS_49", "CKV_AWS_62", "CKV_AWS_63",
            "CKV_AWS_274", "CKV_AWS_275"),
    # Internet ingress to SSH, RDP, HTTP or every port, as SEC010 (high); public data stores,
    # functions, snapshots, queues and brokers.
    **_each("high", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277", "CKV_AWS_352",
            "CKV_AWS_17", "CKV_AWS_69", "CKV_AWS_87", "CKV_AWS_89", "CKV_AWS_102",
            "CKV_AWS_164", "CKV_AWS_291", "CKV2_AWS_7", "CKV2_AWS_66", "CKV_AWS_72",
            "CKV_AWS_258", "CKV_AWS_301", "CKV_AWS_302", "CKV_AWS_303", "CKV_AWS_387",
            "CKV_AWS_70", "CKV2_AWS_43"),
    # IAM that is not everything but close: reviewed, not waved through.
    **_each("medium", "CKV_AWS_9", "CKV_AWS_10", "CKV_AWS_161", "CKV_AWS_162",
            "CKV_AWS_359", "CKV_AWS_309", "CKV_AWS_364", "CKV_AWS_385", "CKV2_AWS_46",
            "CKV2_AWS_52", "CKV_AWS_93", "CKV_AWS_316", "CKV_AWS_88"),
    # Hygiene: descriptions, attachment, password rules of IAM users (the platform has none),
    # Lambda DLQs, reserved concurrency and VPC placement (a capacity provider owns an LMI
    # function's networking: see the CKV_AWS_117 suppression), deletion protection, tags.
    **_each("low", "CKV_AWS_11", "CKV_AWS_12", "CKV_AWS_13", "CKV_AWS_14", "CKV_AWS_15",
            "CKV_AWS_40", "CKV_AWS_170", "CKV_AWS_249", "CKV_AWS_273", "CKV2_AWS_14",
            "CKV2_AWS_21", "CKV2_AWS_22", "CKV2_AWS_41", "CKV2_AWS_64",
            "CKV_AWS_23", "CKV_AWS_123", "CKV_AWS_138", "CKV_AWS_152", "CKV_AWS_233",
            "CKV_AWS_374", "CKV_AWS_377", "CKV_AWS_382", "CKV2_AWS_1", "CKV2_AWS_5",
            "CKV2_AWS_15", "CKV2_AWS_19", "CKV2_AWS_23", "CKV2_AWS_35", "CKV2_AWS_38",
            "CKV2_AWS_42", "CKV2_AWS_71",
            "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_135", "CKV_AWS_139",
            "CKV_AWS_141", "CKV_AWS_143", "CKV_AWS_150", "CKV_AWS_172", "CKV_AWS_216",
            "CKV_AWS_237", "CKV_AWS_261", "CKV_AWS_293", "CKV_AWS_300", "CKV_AWS_305",
            "CKV_AWS_310", "CKV_AWS_312", "CKV_AWS_313", "CKV_AWS_315", "CKV_AWS_319",
            "CKV_AWS_320", "CKV_AWS_322", "CKV_AWS_326", "CKV_AWS_332", "CKV_AWS_340",
            "CKV_AWS_344", "CKV_AWS_394", "CKV2_AWS_16", "CKV2_AWS_58", "CKV2_AWS_59",
            "CKV2_AWS_60"),
}

#: Every Terraform AWS check of checkov 3.3.30, by its category.
BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "AI_AND_ML": (
        "CKV_AWS_383",
    ),
    "APPLICATION_SECURITY": (
        "CKV_AWS_68", "CKV_AWS_175", "CKV_AWS_192", "CKV_AWS_342", "CKV2_AWS_33", "CKV2_AWS_47",
    ),
    "BACKUP_AND_RECOVERY": (
        "CKV_AWS_28", "CKV_AWS_120", "CKV_AWS_133", "CKV_AWS_134", "CKV_AWS_157", "CKV_AWS_165",
        "CKV_AWS_217", "CKV_AWS_225", "CKV_AWS_253", "CKV_AWS_254", "CKV_AWS_255",
        "CKV_AWS_256", "CKV_AWS_343", "CKV_AWS_360", "CKV_AWS_361", "CKV_AWS_362", "CKV2_AWS_8",
        "CKV2_AWS_9", "CKV2_AWS_18", "CKV2_AWS_50",
    ),
    "ENCRYPTION": (
        "CKV_AWS_2", "CKV_AWS_3", "CKV_AWS_5", "CKV_AWS_6", "CKV_AWS_7", "CKV_AWS_8",
        "CKV_AWS_16", "CKV_AWS_22", "CKV_AWS_26", "CKV_AWS_27", "CKV_AWS_29", "CKV_AWS_30",
        "CKV_AWS_31", "CKV_AWS_33", "CKV_AWS_34", "CKV_AWS_42", "CKV_AWS_43", "CKV_AWS_44",
        "CKV_AWS_47", "CKV_AWS_64", "CKV_AWS_74", "CKV_AWS_77", "CKV_AWS_78", "CKV_AWS_81",
        "CKV_AWS_90", "CKV_AWS_94", "CKV_AWS_96", "CKV_AWS_97", "CKV_AWS_98", "CKV_AWS_99",
        "CKV_AWS_105", "CKV_AWS_106", "CKV_AWS_112", "CKV_AWS_113", "CKV_AWS_119",
        "CKV_AWS_136", "CKV_AWS_140", "CKV_AWS_142", "CKV_AWS_146", "CKV_AWS_147",
        "CKV_AWS_149", "CKV_AWS_153", "CKV_AWS_155", "CKV_AWS_156", "CKV_AWS_158",
        "CKV_AWS_159", "CKV_AWS_160", "CKV_AWS_166", "CKV_AWS_171", "CKV_AWS_173",
        "CKV_AWS_174", "CKV_AWS_177", "CKV_AWS_178", "CKV_AWS_179", "CKV_AWS_180",
        "CKV_AWS_181", "CKV_AWS_182", "CKV_AWS_183", "CKV_AWS_184", "CKV_AWS_185",
        "CKV_AWS_186", "CKV_AWS_187", "CKV_AWS_189", "CKV_AWS_190", "CKV_AWS_191",
        "CKV_AWS_195", "CKV_AWS_199", "CKV_AWS_200", "CKV_AWS_201", "CKV_AWS_202",
        "CKV_AWS_203", "CKV_AWS_204", "CKV_AWS_209", "CKV_AWS_212", "CKV_AWS_214",
        "CKV_AWS_215", "CKV_AWS_219", "CKV_AWS_221", "CKV_AWS_222", "CKV_AWS_224",
        "CKV_AWS_226", "CKV_AWS_227", "CKV_AWS_228", "CKV_AWS_235", "CKV_AWS_236",
        "CKV_AWS_239", "CKV_AWS_240", "CKV_AWS_241", "CKV_AWS_245", "CKV_AWS_246",
        "CKV_AWS_247", "CKV_AWS_262", "CKV_AWS_263", "CKV_AWS_264", "CKV_AWS_265",
        "CKV_AWS_266", "CKV_AWS_267", "CKV_AWS_268", "CKV_AWS_269", "CKV_AWS_270",
        "CKV_AWS_271", "CKV_AWS_278", "CKV_AWS_279", "CKV_AWS_280", "CKV_AWS_281",
        "CKV_AWS_282", "CKV_AWS_292", "CKV_AWS_294", "CKV_AWS_296", "CKV_AWS_297",
        "CKV_AWS_298", "CKV_AWS_308", "CKV_AWS_311", "CKV_AWS_327", "CKV_AWS_337",
        "CKV_AWS_345", "CKV_AWS_346", "CKV_AWS_347", "CKV_AWS_349", "CKV_AWS_350",
        "CKV_AWS_351", "CKV_AWS_354", "CKV_AWS_357", "CKV_AWS_367", "CKV_AWS_368",
        "CKV_AWS_369", "CKV_AWS_371", "CKV_AWS_372", "CKV_AWS_373", "CKV_AWS_381", "CKV2_AWS_2",
        "CKV2_AWS_34", "CKV2_AWS_55", "CKV2_AWS_73",
    ),
    "GENERAL_SECURITY": (
        "CKV_AWS_51", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_59",
        "CKV_AWS_72", "CKV_AWS_79", "CKV_AWS_82", "CKV_AWS_83", "CKV_AWS_102", "CKV_AWS_114",
        "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_127", "CKV_AWS_135",
        "CKV_AWS_139", "CKV_AWS_141", "CKV_AWS_143", "CKV_AWS_150", "CKV_AWS_163",
        "CKV_AWS_164", "CKV_AWS_172", "CKV_AWS_205", "CKV_AWS_206", "CKV_AWS_207",
        "CKV_AWS_208", "CKV_AWS_210", "CKV_AWS_211", "CKV_AWS_216", "CKV_AWS_218",
        "CKV_AWS_220", "CKV_AWS_237", "CKV_AWS_238", "CKV_AWS_250", "CKV_AWS_257",
        "CKV_AWS_258", "CKV_AWS_259", "CKV_AWS_261", "CKV_AWS_293", "CKV_AWS_300",
        "CKV_AWS_301", "CKV_AWS_302", "CKV_AWS_303", "CKV_AWS_304", "CKV_AWS_305",
        "CKV_AWS_307", "CKV_AWS_310", "CKV_AWS_312", "CKV_AWS_313", "CKV_AWS_315",
        "CKV_AWS_316", "CKV_AWS_318", "CKV_AWS_319", "CKV_AWS_320", "CKV_AWS_321",
        "CKV_AWS_322", "CKV_AWS_326", "CKV_AWS_329", "CKV_AWS_330", "CKV_AWS_331",
        "CKV_AWS_332", "CKV_AWS_334", "CKV_AWS_335", "CKV_AWS_336", "CKV_AWS_340",
        "CKV_AWS_341", "CKV_AWS_344", "CKV_AWS_363", "CKV_AWS_387", "CKV_AWS_388",
        "CKV_AWS_394", "CKV2_AWS_3", "CKV2_AWS_16", "CKV2_AWS_37", "CKV2_AWS_51", "CKV2_AWS_53",
        "CKV2_AWS_57", "CKV2_AWS_58", "CKV2_AWS_59", "CKV2_AWS_60", "CKV2_AWS_65",
    ),
    "IAM": (
        "CKV_AWS_1", "CKV_AWS_9", "CKV_AWS_10", "CKV_AWS_11", "CKV_AWS_12", "CKV_AWS_13",
        "CKV_AWS_14", "CKV_AWS_15", "CKV_AWS_32", "CKV_AWS_40", "CKV_AWS_49", "CKV_AWS_60",
        "CKV_AWS_61", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_70", "CKV_AWS_93", "CKV_AWS_107",
        "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111", "CKV_AWS_161",
        "CKV_AWS_162", "CKV_AWS_167", "CKV_AWS_168", "CKV_AWS_169", "CKV_AWS_170",
        "CKV_AWS_249", "CKV_AWS_273", "CKV_AWS_274", "CKV_AWS_275", "CKV_AWS_283",
        "CKV_AWS_286", "CKV_AWS_287", "CKV_AWS_288", "CKV_AWS_289", "CKV_AWS_290",
        "CKV_AWS_309", "CKV_AWS_348", "CKV_AWS_355", "CKV_AWS_356", "CKV_AWS_358",
        "CKV_AWS_359", "CKV_AWS_364", "CKV_AWS_366", "CKV_AWS_385", "CKV_AWS_393",
        "CKV2_AWS_14", "CKV2_AWS_21", "CKV2_AWS_22", "CKV2_AWS_40", "CKV2_AWS_41",
        "CKV2_AWS_43", "CKV2_AWS_46", "CKV2_AWS_52", "CKV2_AWS_56", "CKV2_AWS_64",
    ),
    "KUBERNETES": (
        "CKV_AWS_37", "CKV_AWS_38", "CKV_AWS_39", "CKV_AWS_58", "CKV_AWS_100", "CKV_AWS_339",
    ),
    "LOGGING": (
        "CKV_AWS_35", "CKV_AWS_36", "CKV_AWS_48", "CKV_AWS_50", "CKV_AWS_65", "CKV_AWS_66",
        "CKV_AWS_67", "CKV_AWS_71", "CKV_AWS_73", "CKV_AWS_75", "CKV_AWS_76", "CKV_AWS_80",
        "CKV_AWS_84", "CKV_AWS_85", "CKV_AWS_86", "CKV_AWS_91", "CKV_AWS_92", "CKV_AWS_101",
        "CKV_AWS_104", "CKV_AWS_118", "CKV_AWS_121", "CKV_AWS_124", "CKV_AWS_126",
        "CKV_AWS_129", "CKV_AWS_176", "CKV_AWS_193", "CKV_AWS_194", "CKV_AWS_197",
        "CKV_AWS_223", "CKV_AWS_234", "CKV_AWS_242", "CKV_AWS_243", "CKV_AWS_244",
        "CKV_AWS_251", "CKV_AWS_252", "CKV_AWS_276", "CKV_AWS_284", "CKV_AWS_285",
        "CKV_AWS_314", "CKV_AWS_317", "CKV_AWS_324", "CKV_AWS_325", "CKV_AWS_333",
        "CKV_AWS_338", "CKV_AWS_353", "CKV2_AWS_4", "CKV2_AWS_10", "CKV2_AWS_11", "CKV2_AWS_12",
        "CKV2_AWS_27", "CKV2_AWS_30", "CKV2_AWS_31", "CKV2_AWS_39", "CKV2_AWS_45",
        "CKV2_AWS_48", "CKV2_AWS_61", "CKV2_AWS_62", "CKV2_AWS_63",
    ),
    "NETWORKING": (
        "CKV_AWS_17", "CKV_AWS_23", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_69", "CKV_AWS_87",
        "CKV_AWS_88", "CKV_AWS_89", "CKV_AWS_122", "CKV_AWS_123", "CKV_AWS_130", "CKV_AWS_131",
        "CKV_AWS_137", "CKV_AWS_138", "CKV_AWS_148", "CKV_AWS_152", "CKV_AWS_154",
        "CKV_AWS_196", "CKV_AWS_198", "CKV_AWS_213", "CKV_AWS_229", "CKV_AWS_230",
        "CKV_AWS_231", "CKV_AWS_232", "CKV_AWS_233", "CKV_AWS_248", "CKV_AWS_260",
        "CKV_AWS_277", "CKV_AWS_291", "CKV_AWS_306", "CKV_AWS_323", "CKV_AWS_328",
        "CKV_AWS_352", "CKV_AWS_365", "CKV_AWS_370", "CKV_AWS_374", "CKV_AWS_375",
        "CKV_AWS_376", "CKV_AWS_377", "CKV_AWS_379", "CKV_AWS_380", "CKV_AWS_382",
        "CKV_AWS_389", "CKV_AWS_390", "CKV_AWS_391", "CKV_AWS_392", "CKV2_AWS_1", "CKV2_AWS_5",
        "CKV2_AWS_6", "CKV2_AWS_7", "CKV2_AWS_15", "CKV2_AWS_19", "CKV2_AWS_20", "CKV2_AWS_23",
        "CKV2_AWS_28", "CKV2_AWS_29", "CKV2_AWS_32", "CKV2_AWS_35", "CKV2_AWS_38",
        "CKV2_AWS_42", "CKV2_AWS_44", "CKV2_AWS_49", "CKV2_AWS_54", "CKV2_AWS_66",
        "CKV2_AWS_68", "CKV2_AWS_69", "CKV2_AWS_70", "CKV2_AWS_71", "CKV2_AWS_72",
        "CKV2_AWS_74", "CKV2_AWS_75", "CKV2_AWS_76", "CKV2_AWS_77", "CKV2_AWS_78",
    ),
    "SECRETS": (
        "CKV_AWS_41", "CKV_AWS_45", "CKV_AWS_46", "CKV_AWS_295",
    ),
    "SUPPLY_CHAIN": (
        "CKV_AWS_272", "CKV_AWS_386", "CKV2_AWS_36",
    ),
}

_CATEGORY_OF: dict[str, str] = {
    check: category for category, checks in BY_CATEGORY.items() for check in checks
}


def severity(check_id: str, reported: Severity | None = None,
             overrides: Mapping[str, Severity] | None = None) -> tuple[Severity, str]:
    """The severity of a checkov check, and which mapping gave it (said in the report)."""
    if overrides and check_id in overrides:
        return overrides[check_id], "gates.security.severities"
    if reported is not None:
        return reported, "checkov"
    if check_id in CHOSEN:
        return CHOSEN[check_id], f"lmi-delivery's checkov table ({TABLE_VERSION})"
    category = _CATEGORY_OF.get(check_id)
    if category is not None:
        return (CATEGORY_SEVERITY.get(category, DEFAULT),
                f"lmi-delivery's checkov table ({TABLE_VERSION}, category {category})")
    return DEFAULT, "default: not in lmi-delivery's checkov table"
