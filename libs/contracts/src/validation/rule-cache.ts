import type { MetadataStorage } from 'class-validator';

type RuleLookup = MetadataStorage['getTargetValidationMetadatas'];

/**
 * class-validator looks up a class's rules on every validation, and the lookup scans the rules of
 * every class it knows (for its parent classes): most of the time it takes to validate a small body.
 * Rules change only as classes are declared, so each lookup without groups is kept until a rule is added.
 */
export function cacheRuleLookups(storage: MetadataStorage): void {
  const lookUp: RuleLookup = storage.getTargetValidationMetadatas.bind(storage);
  const addRule = storage.addValidationMetadata.bind(storage);
  let known = new Map<Function, Map<string, ReturnType<RuleLookup>>>();
  storage.addValidationMetadata = (metadata) => {
    known = new Map();
    addRule(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    if (groups?.length) return lookUp(target, schema, always, strictGroups, groups);
    let ofTarget = known.get(target);
    if (!ofTarget) known.set(target, (ofTarget = new Map()));
    const key = `${always} ${strictGroups} ${schema}`;
    let rules = ofTarget.get(key);
    if (!rules) ofTarget.set(key, (rules = lookUp(target, schema, always, strictGroups, groups)));
    return rules;
  };
}
