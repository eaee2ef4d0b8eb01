from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def code(meaning, value="1", scheme="99X"):
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def item(vt, name, **kw):
    i = Dataset()
    i.RelationshipType = "CONTAINS"
    i.ValueType = vt
    i.ConceptNameCodeSequence = Sequence([code(name)])
    for k, v in kw.items():
        setattr(i, k, v)
    return i


def make_sr(paragraphs=3):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "SR"
    ds.PatientName = "DOE^JANE"
    ds.PatientID = "PID42"
    ds.StudyDate = "20261120"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([code("Chest X-ray report")])
    findings = item("CONTAINER", "Findings")
    findings.ContentSequence = Sequence(
        [
            item("TEXT", "Finding", TextValue="The lungs are clear. " * k)
            for k in range(1, paragraphs + 1)
        ]
    )
    ds.ContentSequence = Sequence(
        [findings, item("TEXT", "Impression", TextValue="No acute disease.")]
    )
    return ds
