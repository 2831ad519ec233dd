/**
 * PASCAL VOC annotation XML (`Annotations/<id>.xml`): the object names of an image, read with a
 * small regex parser (the files are flat and machine-written; no XML dependency).
 */
import { readFileSync } from 'node:fs';
import { BadInputError } from './sample.js';
import { VOC_CLASSES } from './voc-classes.js';

/** One `<object>` of a VOC annotation. */
export interface VocXmlObject {
  name: string;
  /** `<difficult>1</difficult>`. */
  difficult: boolean;
  /** `<truncated>1</truncated>`. */
  truncated: boolean;
}

const OBJECT_RE = /<object\b[^>]*>([\s\S]*?)<\/object\s*>/g;
const PART_RE = /<part\b[^>]*>[\s\S]*?<\/part\s*>/g;

function tag(body: string, name: string): string | undefined {
  const m = new RegExp(`<${name}\\b[^>]*>([\\s\\S]*?)</${name}\\s*>`).exec(body);
  return m ? m[1].trim() : undefined;
}

/**
 * Parses the `<object>` elements of a VOC annotation document. Person-layout `<part>` names
 * (head, hand, foot) are not objects and are ignored. Throws `E_DATA` naming `file` when the
 * text is not a complete `<annotation>` document or an object has no `<name>`.
 */
export function parseVocXml(text: string, file: string): VocXmlObject[] {
  const start = text.search(/<annotation\b/);
  const end = text.search(/<\/annotation\s*>\s*$/); // the root's closing tag ends the file
  if (start < 0 || end < start) throw new BadInputError('E_DATA', file, 'not a VOC annotation (no complete <annotation> element)');
  const doc = text.slice(start, end);
  const opened = (doc.match(/<object\b/g) ?? []).length;
  const objects: VocXmlObject[] = [];
  for (const m of doc.matchAll(OBJECT_RE)) {
    const body = m[1].replace(PART_RE, '');
    const name = tag(body, 'name');
    if (!name) throw new BadInputError('E_DATA', file, `object ${objects.length + 1} has no <name>`);
    objects.push({ name, difficult: tag(body, 'difficult') === '1', truncated: tag(body, 'truncated') === '1' });
  }
  if (objects.length !== opened) throw new BadInputError('E_DATA', file, `an <object> element is not closed`);
  return objects;
}

/**
 * The image labels of a VOC annotation file: the class indices (1-based, into `classNames`,
 * default the 21 VOC classes) of all its object names, difficult and truncated objects
 * included, sorted and unique. Throws `E_IO` when the file cannot be read and `E_DATA` naming
 * the file and the name for an unknown class.
 */
export function labelsFromXml(path: string, classNames: readonly string[] = VOC_CLASSES): number[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new BadInputError('E_IO', path, 'annotation file not found or unreadable');
  }
  const present = new Set<number>();
  for (const obj of parseVocXml(text, path)) {
    const c = classNames.indexOf(obj.name);
    if (c < 1) throw new BadInputError('E_DATA', path, `unknown class name '${obj.name}' (not one of the ${classNames.length - 1} classes)`);
    present.add(c);
  }
  return [...present].sort((a, b) => a - b);
}
