// CheckDataset.convert with src_dataset_type COCO: a COCO instance dataset -> MLClsDataset lists, as PaddleX's
// converter (multilabel_classification/dataset_checker/dataset_src/convert_dataset.py) does.
#pragma once
#include <string>

namespace paddlex::mlcls {

// Reads <root>/annotations/instance_train.json and instance_val.json (instances_*.json also accepted) and writes
// <root>/label.txt ("<index> <name>", categories in file order numbered from 0) and train.txt / val.txt
// ("images/<file_name><TAB><0/1 per class>", images by id). Unlike PaddleX, label.txt gets the contiguous
// indices the lists use (PaddleX writes the COCO ids, which its own check then rejects when they start at 1),
// and images without annotations or without a file are left out and counted (an empty label set is a bad
// line). Existing lists are kept once as *.bak. Throws RunError naming the file and field; returns a summary.
std::string convert_coco_to_mlcls(const std::string& root);

}  // namespace paddlex::mlcls
